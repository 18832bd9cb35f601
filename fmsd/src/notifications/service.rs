//! Turns an event into a mail, once.

use std::sync::Arc;

use super::domain::Template;
use super::ports::{Mailer, NotificationRepo};
use crate::error::Result;

/// The notifications service.
pub struct NotificationService {
    /// Sends.
    mailer: Arc<dyn Mailer>,
    /// Remembers what was sent.
    repo: Arc<dyn NotificationRepo>,
}

impl std::fmt::Debug for NotificationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationService")
            .finish_non_exhaustive()
    }
}

impl NotificationService {
    /// A service sending through `mailer`.
    pub fn new(mailer: Arc<dyn Mailer>, repo: Arc<dyn NotificationRepo>) -> Self {
        Self { mailer, repo }
    }

    /// Sends `template` to `to` for the event `event_id`, unless that event was mailed already.
    /// The record is written after the send: a crash in between may send a mail twice, never
    /// lose one.
    #[tracing::instrument(skip(self, to, name))]
    pub async fn notify(
        &self,
        event_id: &str,
        template: Template,
        to: &str,
        name: &str,
    ) -> Result<()> {
        if self.repo.already_handled(event_id).await? {
            tracing::debug!("event already mailed; skipped");
            return Ok(());
        }
        let mail = template.render(event_id, to, name);
        self.mailer.send(&mail).await?;
        self.repo.remember_handled(event_id).await?;
        tracing::info!(subject = %mail.subject, "mail sent");
        Ok(())
    }
}
