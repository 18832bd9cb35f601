//! The notifications store on SQL, SQLite (embedded) or PostgreSQL (real stack), written once
//! over both through `crate::db`: which events were mailed, each customer's activity-mail
//! preference, their last activity mail and the mails queued for their next digest.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_migrations::embed_migrations;
use uuid::Uuid;

use super::schema::{
    activity_mail_sent, digest_queue, digests, from_micros, mail_preferences, to_micros, QueuedRow,
    CONSUMER,
};
use crate::db::dialect::per_engine;
use crate::db::{outbox, Database, DbConnection, Migrations};
use crate::error::Result;
use crate::health::Probe;
use crate::notifications::domain::{About, Digest, QueuedMail};
use crate::notifications::ports::NotificationRepo;
use crate::store_url::StoreUrl;

/// The notifications migrations for each engine.
const MIGRATIONS: Migrations = Migrations {
    sqlite: embed_migrations!("migrations/notifications"),
    #[cfg(feature = "postgres")]
    postgres: embed_migrations!("migrations/notifications-postgres"),
};

/// The notifications database.
#[derive(Debug, Clone)]
pub struct SqlNotificationRepo {
    /// The service's own database.
    db: Database,
}

impl SqlNotificationRepo {
    /// Opens (creating and migrating if needed) the database at `url`: `sqlite://` or
    /// `postgres://`. Never logs the URL (it may hold a password).
    pub async fn open(url: &StoreUrl) -> anyhow::Result<Self> {
        Ok(Self {
            db: Database::open("notifications", url, MIGRATIONS).await?,
        })
    }
}

/// Records `sent_at` as the customer's last activity mail.
fn set_last_sent(connection: &mut DbConnection, customer_id: &str, sent_at: i64) -> Result<()> {
    let row = (
        activity_mail_sent::customer_id.eq(customer_id),
        activity_mail_sent::sent_at.eq(sent_at),
    );
    per_engine!(connection, |inner| diesel::insert_into(
        activity_mail_sent::table
    )
    .values(row)
    .on_conflict(activity_mail_sent::customer_id)
    .do_update()
    .set(activity_mail_sent::sent_at.eq(sent_at))
    .execute(inner))?;
    Ok(())
}

#[async_trait]
impl NotificationRepo for SqlNotificationRepo {
    #[tracing::instrument(skip_all)]
    async fn already_handled(&self, event_id: &str) -> Result<bool> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| outbox::already_handled(connection, CONSUMER, &event_id))
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn remember_handled(&self, event_id: &str) -> Result<()> {
        let event_id = event_id.to_owned();
        self.db
            .run(move |connection| outbox::remember_handled(connection, CONSUMER, &event_id))
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn activity_mail(&self, customer_id: Uuid) -> Result<Option<bool>> {
        let customer_id = customer_id.to_string();
        self.db
            .run(move |connection| {
                Ok(mail_preferences::table
                    .find(customer_id)
                    .select(mail_preferences::activity_mail)
                    .first(connection)
                    .optional()?)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn set_activity_mail(&self, customer_id: Uuid, wanted: bool) -> Result<()> {
        let row = (
            mail_preferences::customer_id.eq(customer_id.to_string()),
            mail_preferences::activity_mail.eq(wanted),
        );
        self.db
            .run(move |connection| {
                per_engine!(connection, |inner| diesel::insert_into(
                    mail_preferences::table
                )
                .values(row)
                .on_conflict(mail_preferences::customer_id)
                .do_update()
                .set(mail_preferences::activity_mail.eq(wanted))
                .execute(inner))?;
                Ok(())
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn forget_customer(&self, customer_id: Uuid) -> Result<()> {
        let customer_id = customer_id.to_string();
        self.db
            .write(move |connection| {
                diesel::delete(mail_preferences::table.find(&customer_id)).execute(connection)?;
                diesel::delete(activity_mail_sent::table.find(&customer_id)).execute(connection)?;
                diesel::delete(
                    digest_queue::table.filter(digest_queue::customer_id.eq(&customer_id)),
                )
                .execute(connection)?;
                Ok(())
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn last_activity_mail_at(&self, customer_id: Uuid) -> Result<Option<DateTime<Utc>>> {
        let customer_id = customer_id.to_string();
        let micros: Option<i64> = self
            .db
            .run(move |connection| {
                Ok(activity_mail_sent::table
                    .find(customer_id)
                    .select(activity_mail_sent::sent_at)
                    .first(connection)
                    .optional()?)
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
            .write(move |connection| {
                outbox::remember_handled(connection, CONSUMER, &event_id)?;
                set_last_sent(connection, &customer_id, to_micros(sent_at))
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn queue_activity_mail(&self, mail: &QueuedMail) -> Result<()> {
        let row = QueuedRow::from_mail(mail)?;
        self.db
            .write(move |connection| {
                // Once per event: a redelivered event finds its mail queued already.
                per_engine!(connection, |inner| diesel::insert_into(digest_queue::table)
                    .values(&row)
                    .on_conflict_do_nothing()
                    .execute(inner))?;
                outbox::remember_handled(connection, CONSUMER, &row.event_id)
            })
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn queued_activity_mail(&self, customer_id: Uuid) -> Result<Vec<QueuedMail>> {
        let customer_id = customer_id.to_string();
        let rows: Vec<QueuedRow> = self
            .db
            .run(move |connection| {
                Ok(digest_queue::table
                    .filter(digest_queue::customer_id.eq(customer_id))
                    .order(digest_queue::seq.asc())
                    .select(QueuedRow::as_select())
                    .load(connection)?)
            })
            .await?;
        rows.into_iter().map(QueuedRow::into_mail).collect()
    }

    /// Every queued mail of customers not sent an activity mail after `sent_before`, oldest
    /// first, one digest per customer.
    #[tracing::instrument(skip_all)]
    async fn due_digests(&self, sent_before: DateTime<Utc>) -> Result<Vec<Digest>> {
        let sent_before = to_micros(sent_before);
        let rows: Vec<QueuedRow> = self
            .db
            .run(move |connection| {
                let recent = activity_mail_sent::table
                    .filter(activity_mail_sent::sent_at.gt(sent_before))
                    .select(activity_mail_sent::customer_id);
                Ok(digest_queue::table
                    .filter(diesel::dsl::not(digest_queue::customer_id.eq_any(recent)))
                    .order(digest_queue::seq.asc())
                    .select(QueuedRow::as_select())
                    .load(connection)?)
            })
            .await?;
        digests(rows)
    }

    #[tracing::instrument(skip(self))]
    async fn drop_queued_about(&self, about: About) -> Result<u64> {
        let key = about.key();
        self.db
            .write(move |connection| {
                let n = diesel::delete(digest_queue::table.filter(digest_queue::about.eq(&key)))
                    .execute(connection)?;
                Ok(n as u64)
            })
            .await
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
            .write(move |connection| {
                diesel::delete(
                    digest_queue::table
                        .filter(digest_queue::customer_id.eq(&customer_id))
                        .filter(digest_queue::event_id.eq_any(&event_ids)),
                )
                .execute(connection)?;
                if let Some(sent_at) = sent_at {
                    set_last_sent(connection, &customer_id, to_micros(sent_at))?;
                }
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl Probe for SqlNotificationRepo {
    async fn probe(&self) -> Result<()> {
        self.db.ping().await
    }
}
