//! The notifications store in SQLite: which events were mailed, each customer's activity-mail
//! preference, their last activity mail and the mails queued for their next digest.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use uuid::Uuid;

use super::schema::{digests, from_micros, to_micros, QueuedRow};
use crate::db::Sqlite;
use crate::error::Result;
use crate::notifications::domain::{Digest, QueuedMail};
use crate::notifications::ports::NotificationRepo;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/notifications");

/// The queries, for SQLite.
mod queries {
    use diesel::SqliteConnection;
    super::super::schema::activity_queries!(SqliteConnection);
}

/// The notifications database.
#[derive(Debug, Clone)]
pub struct SqliteNotificationRepo {
    /// The service's own database file.
    db: Sqlite,
}

impl SqliteNotificationRepo {
    /// Opens (or creates and migrates) the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            db: Sqlite::open(path, MIGRATIONS)?,
        })
    }

    /// The database, for `/readyz`.
    pub fn db(&self) -> Sqlite {
        self.db.clone()
    }
}

#[async_trait]
impl NotificationRepo for SqliteNotificationRepo {
    async fn already_handled(&self, event_id: &str) -> Result<bool> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| Ok(queries::already_handled(connection, &event_id)?))
            .await
    }

    async fn remember_handled(&self, event_id: &str) -> Result<()> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| Ok(queries::remember_handled(connection, &event_id)?))
            .await
    }

    async fn activity_mail(&self, customer_id: Uuid) -> Result<Option<bool>> {
        let customer_id = customer_id.to_string();
        self.db
            .run(move |connection| Ok(queries::activity_mail(connection, &customer_id)?))
            .await
    }

    async fn set_activity_mail(&self, customer_id: Uuid, wanted: bool) -> Result<()> {
        let customer_id = customer_id.to_string();
        self.db
            .run(move |connection| {
                Ok(queries::set_activity_mail(
                    connection,
                    &customer_id,
                    wanted,
                )?)
            })
            .await
    }

    async fn forget_customer(&self, customer_id: Uuid) -> Result<()> {
        let customer_id = customer_id.to_string();
        self.db
            .run(move |connection| Ok(queries::forget_customer(connection, &customer_id)?))
            .await
    }

    async fn last_activity_mail_at(&self, customer_id: Uuid) -> Result<Option<DateTime<Utc>>> {
        let customer_id = customer_id.to_string();
        let micros = self
            .db
            .run(move |connection| Ok(queries::last_activity_mail_at(connection, &customer_id)?))
            .await?;
        micros.map(from_micros).transpose()
    }

    async fn record_activity_mail(
        &self,
        event_id: &str,
        customer_id: Uuid,
        sent_at: DateTime<Utc>,
    ) -> Result<()> {
        let (event_id, customer_id) = (event_id.to_owned(), customer_id.to_string());
        self.db
            .run(move |connection| {
                Ok(queries::record_activity_mail(
                    connection,
                    &event_id,
                    &customer_id,
                    to_micros(sent_at),
                )?)
            })
            .await
    }

    async fn queue_activity_mail(&self, mail: &QueuedMail) -> Result<()> {
        let row = QueuedRow::from_mail(mail);
        self.db
            .run(move |connection| Ok(queries::queue_activity_mail(connection, &row)?))
            .await
    }

    async fn queued_activity_mail(&self, customer_id: Uuid) -> Result<Vec<QueuedMail>> {
        let customer_id = customer_id.to_string();
        let rows = self
            .db
            .run(move |connection| Ok(queries::queued_activity_mail(connection, &customer_id)?))
            .await?;
        rows.into_iter().map(QueuedRow::into_mail).collect()
    }

    async fn due_digests(&self, sent_before: DateTime<Utc>) -> Result<Vec<Digest>> {
        let rows = self
            .db
            .run(move |connection| Ok(queries::due_mails(connection, to_micros(sent_before))?))
            .await?;
        digests(rows)
    }

    async fn dequeue_activity_mail(
        &self,
        customer_id: Uuid,
        event_ids: &[String],
        sent_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let (customer_id, event_ids) = (customer_id.to_string(), event_ids.to_vec());
        self.db
            .run(move |connection| {
                Ok(queries::dequeue_activity_mail(
                    connection,
                    &customer_id,
                    &event_ids,
                    sent_at.map(to_micros),
                )?)
            })
            .await
    }
}
