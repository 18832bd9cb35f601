//! What notifications needs: a way to send mail, and a memory of what it sent.

use async_trait::async_trait;

use super::domain::Mail;
use crate::error::Result;

/// Sends mail. A failure to reach the mail server is `Unavailable`, which the consumer retries.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `mail`.
    async fn send(&self, mail: &Mail) -> Result<()>;
}

/// Remembers which events were mailed, so an event delivered twice mails once.
#[async_trait]
pub trait NotificationRepo: Send + Sync {
    /// Whether the event was handled.
    async fn already_handled(&self, event_id: &str) -> Result<bool>;
    /// Records that the event was handled.
    async fn remember_handled(&self, event_id: &str) -> Result<()>;
}
