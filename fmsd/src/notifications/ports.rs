//! What notifications needs: a way to send mail, and a memory of what it sent, what each
//! customer wants, and what waits for a digest.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::domain::{About, Digest, Mail, QueuedMail};
use crate::error::Result;

/// Sends mail. A failure to reach the mail server is `Unavailable`, which the consumer retries.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`.
    async fn send(&self, mail: &Mail) -> Result<()>;
}

/// Remembers which events were mailed (so an event delivered twice mails once), each
/// customer's mail preference (a projection of customer events), when each customer was last
/// sent an activity mail, and the activity mails queued for their next digest.
#[async_trait]
pub trait NotificationRepo: Send + Sync {
    /// Whether the event was handled.
    async fn already_handled(&self, event_id: &str) -> Result<bool>;
    /// Records that the event was handled.
    async fn remember_handled(&self, event_id: &str) -> Result<()>;

    /// Whether `customer_id` wants activity mail; `None` for a customer not heard of.
    async fn activity_mail(&self, customer_id: Uuid) -> Result<Option<bool>>;
    /// Records whether `customer_id` wants activity mail.
    async fn set_activity_mail(&self, customer_id: Uuid, wanted: bool) -> Result<()>;
    /// Forgets everything kept about `customer_id`: preference, last send, queued mails.
    async fn forget_customer(&self, customer_id: Uuid) -> Result<()>;

    /// When `customer_id` was last sent an activity mail (or a digest), if ever.
    async fn last_activity_mail_at(&self, customer_id: Uuid) -> Result<Option<DateTime<Utc>>>;
    /// Records, in one transaction, that the activity mail for `event_id` went to
    /// `customer_id` at `sent_at`: the event is handled and the send time is the last one.
    async fn record_activity_mail(
        &self,
        event_id: &str,
        customer_id: Uuid,
        sent_at: DateTime<Utc>,
    ) -> Result<()>;

    /// Queues `mail` for its recipient's next digest and records its event as handled, in
    /// one transaction; queueing an event already queued changes nothing.
    async fn queue_activity_mail(&self, mail: &QueuedMail) -> Result<()>;
    /// The mails queued for `customer_id`, oldest first.
    async fn queued_activity_mail(&self, customer_id: Uuid) -> Result<Vec<QueuedMail>>;
    /// The queued mails of every customer last sent an activity mail at or before
    /// `sent_before` (or never), one digest per customer, items oldest first.
    async fn due_digests(&self, sent_before: DateTime<Utc>) -> Result<Vec<Digest>>;
    /// Removes every queued mail about `about` (a share or link that ended); how many went.
    async fn drop_queued_about(&self, about: About) -> Result<u64>;
    /// Removes the queued mails of `customer_id` for `event_ids` (those a digest carried; any
    /// queued since stay) and, with `sent_at`, records it as their last activity mail, in one
    /// transaction.
    async fn dequeue_activity_mail(
        &self,
        customer_id: Uuid,
        event_ids: &[String],
        sent_at: Option<DateTime<Utc>>,
    ) -> Result<()>;
}
