//! The notifications tables, written by hand to match `migrations/notifications` (SQLite) and
//! `migrations/notifications-postgres`, and the rows read from them. Both databases hold the
//! same columns (text ids, microsecond times). The processed-event table is the one every
//! service database has (`crate::db::outbox`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::notifications::domain::{About, Digest, QueuedMail, Recipient, Rich};

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
        summary_parts -> Nullable<Text>,
        about -> Nullable<Text>,
    }
}

// `due_mails` filters the queue by a subquery on the last sends.
diesel::allow_tables_to_appear_in_same_query!(digest_queue, activity_mail_sent);

/// The consumer name processed-event records are kept under, on both engines.
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
    /// What the digest lists of the mail, as plain text (all rows queued before the parts
    /// were kept have).
    pub summary: String,
    /// The same with its markup, as JSON ([`Rich`]); `None` in rows queued before it was kept.
    pub summary_parts: Option<String>,
    /// The share or link the mail is about ([`About::key`]), if its news ends with it.
    pub about: Option<String>,
}

impl QueuedRow {
    /// The row for `mail`.
    pub fn from_mail(mail: &QueuedMail) -> Result<Self> {
        let summary_parts = serde_json::to_string(&mail.summary).map_err(Error::internal)?;
        Ok(Self {
            event_id: mail.event_id.clone(),
            customer_id: mail.recipient.customer_id.to_string(),
            email: mail.recipient.email.clone(),
            name: mail.recipient.name.clone(),
            subject: mail.subject.clone(),
            summary: mail.summary.to_text(),
            summary_parts: Some(summary_parts),
            about: mail.about.as_ref().map(About::key),
        })
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
            summary: match self.summary_parts {
                Some(parts) => serde_json::from_str(&parts).map_err(|error| {
                    Error::internal(anyhow::anyhow!("stored summary {parts:?}: {error}"))
                })?,
                None => Rich::from(self.summary),
            },
            about: self
                .about
                .as_deref()
                .map(|key| {
                    About::parse(key).map_err(|error| {
                        Error::internal(anyhow::anyhow!("queued mail about: {error}"))
                    })
                })
                .transpose()?,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(summary_parts: Option<&str>, about: Option<&str>) -> QueuedRow {
        QueuedRow {
            event_id: "e1".into(),
            customer_id: Uuid::nil().to_string(),
            email: "a@example.com".into(),
            name: "Ada".into(),
            subject: "S".into(),
            summary: "Bob shared `x`.".into(),
            summary_parts: summary_parts.map(str::to_owned),
            about: about.map(str::to_owned),
        }
    }

    #[test]
    fn a_row_queued_before_the_parts_were_kept_reads_as_plain_text() {
        let mail = row(None, None).into_mail().unwrap();
        assert_eq!(mail.summary, Rich::from("Bob shared `x`."));
        assert_eq!(mail.about, None);
    }

    #[test]
    fn a_mail_round_trips_through_its_row() {
        let mail = QueuedMail {
            about: Some(About::Link(Uuid::nil())),
            summary: Rich::new().text("Run ").code("fmsctl ls"),
            ..row(None, None).into_mail().unwrap()
        };
        let stored = QueuedRow::from_mail(&mail).unwrap();
        assert_eq!(stored.summary, "Run `fmsctl ls`");
        assert_eq!(
            stored.about.as_deref(),
            Some(&*About::Link(Uuid::nil()).key())
        );
        assert_eq!(stored.into_mail().unwrap(), mail);
    }

    #[test]
    fn a_damaged_row_is_an_error_not_a_panic() {
        assert!(row(Some("{not json"), None).into_mail().is_err());
        assert!(row(None, Some("node:1")).into_mail().is_err());
    }
}
