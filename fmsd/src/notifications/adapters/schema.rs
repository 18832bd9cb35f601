//! The notifications tables, written by hand to match `migrations/notifications` (SQLite) and
//! `migrations/notifications-postgres`, the rows read from them, and the queries on them.
//! Both databases hold the same columns (text ids, microsecond times), so both adapters share
//! the rows; the queries are written once in [`activity_queries`] and instantiated for each
//! connection type, since diesel's generic bounds over backends would hide what they do.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::notifications::domain::{Digest, QueuedMail, Recipient};

diesel::table! {
    processed_events (consumer, event_id) {
        consumer -> Text,
        event_id -> Text,
    }
}

diesel::table! {
    mail_preferences (customer_id) {
        customer_id -> Text,
        activity_mail -> Bool,
    }
}

diesel::table! {
    activity_mail_sent (customer_id) {
        customer_id -> Text,
        sent_at -> BigInt,
    }
}

diesel::table! {
    digest_queue (seq) {
        seq -> BigInt,
        event_id -> Text,
        customer_id -> Text,
        email -> Text,
        name -> Text,
        subject -> Text,
        summary -> Text,
    }
}

// `due_mails` filters the queue by a subquery on the last sends.
diesel::allow_tables_to_appear_in_same_query!(digest_queue, activity_mail_sent);

/// The consumer name processed-event records are kept under, in both databases.
pub const CONSUMER: &str = "fms-notifications";

/// A row of `digest_queue` (without its sequence number, which the database assigns).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = digest_queue, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct QueuedRow {
    /// The event the mail comes from.
    pub event_id: String,
    /// The customer, as text.
    pub customer_id: String,
    /// Where the mail goes.
    pub email: String,
    /// How it greets them.
    pub name: String,
    /// The mail's subject.
    pub subject: String,
    /// The mail's main paragraph.
    pub summary: String,
}

impl QueuedRow {
    /// The row for `mail`.
    pub fn from_mail(mail: &QueuedMail) -> Self {
        Self {
            event_id: mail.event_id.clone(),
            customer_id: mail.recipient.customer_id.to_string(),
            email: mail.recipient.email.clone(),
            name: mail.recipient.name.clone(),
            subject: mail.subject.clone(),
            summary: mail.summary.clone(),
        }
    }

    /// The mail in this row.
    pub fn into_mail(self) -> Result<QueuedMail> {
        Ok(QueuedMail {
            event_id: self.event_id,
            recipient: Recipient {
                customer_id: parse_id(&self.customer_id)?,
                email: self.email,
                name: self.name,
            },
            subject: self.subject,
            summary: self.summary,
        })
    }
}

/// A stored customer id.
fn parse_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|error| Error::internal(anyhow::anyhow!("stored customer id {raw:?}: {error}")))
}

/// A time as stored: microseconds since 1970.
pub fn to_micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// A stored time.
pub fn from_micros(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("stored time {micros} is out of range")))
}

/// Queued rows, in queue order, gathered into one digest per customer (customers in the order
/// of their oldest queued mail).
pub fn digests(rows: Vec<QueuedRow>) -> Result<Vec<Digest>> {
    let mut digests: Vec<Digest> = Vec::new();
    for row in rows {
        let mail = row.into_mail()?;
        let customer_id = mail.recipient.customer_id;
        match digests
            .iter_mut()
            .find(|digest| digest.customer_id == customer_id)
        {
            Some(digest) => digest.items.push(mail),
            None => digests.push(Digest {
                customer_id,
                items: vec![mail],
            }),
        }
    }
    Ok(digests)
}

/// Defines, in the module it is invoked in, every notifications query for `$connection`
/// (`SqliteConnection` or `PgConnection`). Each returns diesel's error, for the adapter to map.
macro_rules! activity_queries {
    ($connection:ty) => {
        use diesel::prelude::*;
        use diesel::result::QueryResult;

        use $crate::notifications::adapters::schema::{
            activity_mail_sent, digest_queue, mail_preferences, processed_events, QueuedRow,
            CONSUMER,
        };

        /// Whether the event was handled.
        pub fn already_handled(connection: &mut $connection, event_id: &str) -> QueryResult<bool> {
            let query = processed_events::table
                .filter(processed_events::consumer.eq(CONSUMER))
                .filter(processed_events::event_id.eq(event_id));
            diesel::select(diesel::dsl::exists(query)).get_result(connection)
        }

        /// Records that the event was handled; recording it twice changes nothing (a
        /// redelivered event may race the first delivery, and both must succeed).
        pub fn remember_handled(connection: &mut $connection, event_id: &str) -> QueryResult<()> {
            diesel::insert_into(processed_events::table)
                .values((
                    processed_events::consumer.eq(CONSUMER),
                    processed_events::event_id.eq(event_id),
                ))
                .on_conflict_do_nothing()
                .execute(connection)?;
            Ok(())
        }

        /// The customer's activity-mail preference, if known.
        pub fn activity_mail(
            connection: &mut $connection,
            customer_id: &str,
        ) -> QueryResult<Option<bool>> {
            mail_preferences::table
                .find(customer_id)
                .select(mail_preferences::activity_mail)
                .first(connection)
                .optional()
        }

        /// Records the customer's activity-mail preference.
        pub fn set_activity_mail(
            connection: &mut $connection,
            customer_id: &str,
            wanted: bool,
        ) -> QueryResult<()> {
            diesel::insert_into(mail_preferences::table)
                .values((
                    mail_preferences::customer_id.eq(customer_id),
                    mail_preferences::activity_mail.eq(wanted),
                ))
                .on_conflict(mail_preferences::customer_id)
                .do_update()
                .set(mail_preferences::activity_mail.eq(wanted))
                .execute(connection)?;
            Ok(())
        }

        /// Forgets the customer's preference, last send and queued mails.
        pub fn forget_customer(connection: &mut $connection, customer_id: &str) -> QueryResult<()> {
            connection.transaction(|connection| {
                diesel::delete(mail_preferences::table.find(customer_id)).execute(connection)?;
                diesel::delete(activity_mail_sent::table.find(customer_id)).execute(connection)?;
                diesel::delete(
                    digest_queue::table.filter(digest_queue::customer_id.eq(customer_id)),
                )
                .execute(connection)?;
                Ok(())
            })
        }

        /// When the customer was last sent an activity mail, in microseconds.
        pub fn last_activity_mail_at(
            connection: &mut $connection,
            customer_id: &str,
        ) -> QueryResult<Option<i64>> {
            activity_mail_sent::table
                .find(customer_id)
                .select(activity_mail_sent::sent_at)
                .first(connection)
                .optional()
        }

        /// Records `sent_at` as the customer's last activity mail.
        fn set_last_sent(
            connection: &mut $connection,
            customer_id: &str,
            sent_at: i64,
        ) -> QueryResult<()> {
            diesel::insert_into(activity_mail_sent::table)
                .values((
                    activity_mail_sent::customer_id.eq(customer_id),
                    activity_mail_sent::sent_at.eq(sent_at),
                ))
                .on_conflict(activity_mail_sent::customer_id)
                .do_update()
                .set(activity_mail_sent::sent_at.eq(sent_at))
                .execute(connection)?;
            Ok(())
        }

        /// Records the event as handled and `sent_at` as the customer's last activity mail.
        pub fn record_activity_mail(
            connection: &mut $connection,
            event_id: &str,
            customer_id: &str,
            sent_at: i64,
        ) -> QueryResult<()> {
            connection.transaction(|connection| {
                remember_handled(connection, event_id)?;
                set_last_sent(connection, customer_id, sent_at)
            })
        }

        /// Queues the mail (once per event) and records its event as handled.
        pub fn queue_activity_mail(
            connection: &mut $connection,
            row: &QueuedRow,
        ) -> QueryResult<()> {
            connection.transaction(|connection| {
                diesel::insert_into(digest_queue::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(connection)?;
                remember_handled(connection, &row.event_id)
            })
        }

        /// The customer's queued mails, oldest first.
        pub fn queued_activity_mail(
            connection: &mut $connection,
            customer_id: &str,
        ) -> QueryResult<Vec<QueuedRow>> {
            digest_queue::table
                .filter(digest_queue::customer_id.eq(customer_id))
                .order(digest_queue::seq.asc())
                .select(QueuedRow::as_select())
                .load(connection)
        }

        /// Every queued mail of customers not sent an activity mail after `sent_before`,
        /// oldest first.
        pub fn due_mails(
            connection: &mut $connection,
            sent_before: i64,
        ) -> QueryResult<Vec<QueuedRow>> {
            let recent = activity_mail_sent::table
                .filter(activity_mail_sent::sent_at.gt(sent_before))
                .select(activity_mail_sent::customer_id);
            digest_queue::table
                .filter(diesel::dsl::not(digest_queue::customer_id.eq_any(recent)))
                .order(digest_queue::seq.asc())
                .select(QueuedRow::as_select())
                .load(connection)
        }

        /// Removes the customer's queued mails for `event_ids` and, with `sent_at`, records
        /// it as their last activity mail.
        pub fn dequeue_activity_mail(
            connection: &mut $connection,
            customer_id: &str,
            event_ids: &[String],
            sent_at: Option<i64>,
        ) -> QueryResult<()> {
            connection.transaction(|connection| {
                diesel::delete(
                    digest_queue::table
                        .filter(digest_queue::customer_id.eq(customer_id))
                        .filter(digest_queue::event_id.eq_any(event_ids)),
                )
                .execute(connection)?;
                if let Some(sent_at) = sent_at {
                    set_last_sent(connection, customer_id, sent_at)?;
                }
                Ok(())
            })
        }
    };
}
pub(crate) use activity_queries;
