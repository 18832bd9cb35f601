//! Turns an event into a mail, once; keeps each customer's mail preference; gathers bursts of
//! activity mail into digests.
//!
//! Account and security mails go at once, always. An activity mail goes only to a customer
//! who wants them (unknown customers do). The first activity mail of a burst goes at once;
//! the next ones, within `digest_window` of the last one sent to that customer, are queued,
//! and [`NotificationService::flush_digests`] later sends them as one digest. A queued mail
//! about a share or link that ends before then is dropped
//! ([`NotificationService::withdraw`]); a digest left with nothing is not sent.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::domain::{About, Mail, Recipient, Server, Template};
use super::ports::{Mailer, NotificationRepo};
use crate::clock::Clock;
use crate::error::{Error, Result};

#[cfg(test)]
mod tests;

/// The notifications service.
pub struct NotificationService {
    /// Sends.
    mailer: Arc<dyn Mailer>,
    /// Remembers what was sent, what customers want and what waits for a digest.
    repo: Arc<dyn NotificationRepo>,
    /// Tells when a burst is over; injected so tests move it instead of sleeping.
    clock: Arc<dyn Clock>,
    /// How long after an activity mail the next ones to the same customer are held back.
    digest_window: TimeDelta,
    /// The server every mail names, and its commands run against.
    server: Server,
}

impl std::fmt::Debug for NotificationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationService")
            .field("digest_window", &self.digest_window)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl NotificationService {
    /// A service sending through `mailer` mails about `server`, gathering activity mails that
    /// come within `digest_window` of each other into digests.
    pub fn new(
        mailer: Arc<dyn Mailer>,
        repo: Arc<dyn NotificationRepo>,
        clock: Arc<dyn Clock>,
        digest_window: Duration,
        server: Server,
    ) -> Self {
        Self {
            mailer,
            repo,
            clock,
            digest_window: TimeDelta::from_std(digest_window).unwrap_or(TimeDelta::MAX),
            server,
        }
    }

    /// Sends `template` to `recipient` for the event `event_id`, unless that event was handled
    /// already; an activity mail may instead be dropped (the customer does not want them) or
    /// queued for a digest. The record is written after the send: a crash in between may send
    /// a mail twice, never lose one.
    #[tracing::instrument(skip(self, template, recipient), fields(customer_id = %recipient.customer_id))]
    pub async fn notify(
        &self,
        event_id: &str,
        template: Template,
        recipient: &Recipient,
    ) -> Result<()> {
        if self.repo.already_handled(event_id).await? {
            tracing::debug!("event already handled; skipped");
            return Ok(());
        }
        if !template.is_activity() {
            let mail = template.render(event_id, recipient, &self.server);
            self.send(&mail).await?;
            self.repo.remember_handled(event_id).await?;
            tracing::info!(subject = %mail.subject, "mail sent");
            return Ok(());
        }
        let customer_id = recipient.customer_id;
        if self.repo.activity_mail(customer_id).await? == Some(false) {
            self.repo.remember_handled(event_id).await?;
            tracing::info!("activity mail turned off by the customer; not sent");
            return Ok(());
        }
        let now = self.clock.now();
        let last = self.repo.last_activity_mail_at(customer_id).await?;
        let within_window = last.is_some_and(|last| now < self.window_end(last));
        // Mails already waiting go first: a new one joins them rather than overtake them.
        if within_window
            || !self
                .repo
                .queued_activity_mail(customer_id)
                .await?
                .is_empty()
        {
            self.repo
                .queue_activity_mail(&template.queued(event_id, recipient, &self.server))
                .await?;
            tracing::info!("activity mail queued for the next digest");
            return Ok(());
        }
        let mail = template.render(event_id, recipient, &self.server);
        self.send(&mail).await?;
        self.repo
            .record_activity_mail(event_id, customer_id, now)
            .await?;
        tracing::info!(subject = %mail.subject, "activity mail sent");
        Ok(())
    }

    /// Sends one digest to every customer with queued mails whose last activity mail is at
    /// least a window old, and returns how many went. A customer who turned activity mail off
    /// meanwhile gets none, and their queue is dropped; so is a digest the mail server refuses
    /// for good (a bad address). A mail server out of reach stops the flush; the queues stay
    /// for the next one.
    #[tracing::instrument(skip(self))]
    pub async fn flush_digests(&self) -> Result<usize> {
        let now = self.clock.now();
        let sent_before = now
            .checked_sub_signed(self.digest_window)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut n_sent = 0;
        for digest in self.repo.due_digests(sent_before).await? {
            let customer_id = digest.customer_id;
            let event_ids: Vec<String> = digest
                .items
                .iter()
                .map(|item| item.event_id.clone())
                .collect();
            let Some(mail) = digest.render(&self.server) else {
                continue;
            };
            if self.repo.activity_mail(customer_id).await? == Some(false) {
                self.repo
                    .dequeue_activity_mail(customer_id, &event_ids, None)
                    .await?;
                tracing::info!(%customer_id, "activity mail turned off; queued mails dropped");
                continue;
            }
            match self.send(&mail).await {
                Ok(()) => {}
                Err(Error::Invalid(reason)) => {
                    tracing::warn!(%customer_id, %reason, "digest refused; queued mails dropped");
                    self.repo
                        .dequeue_activity_mail(customer_id, &event_ids, None)
                        .await?;
                    continue;
                }
                Err(error) => return Err(error),
            }
            self.repo
                .dequeue_activity_mail(customer_id, &event_ids, Some(now))
                .await?;
            tracing::info!(%customer_id, n_items = event_ids.len(), "digest sent");
            n_sent += 1;
        }
        Ok(n_sent)
    }

    /// A share or link ended (revoked, left, or gone with its item): the mails queued about it
    /// are dropped, so no digest tells of it. One already sent stays sent; a redelivered end
    /// finds nothing more to drop.
    #[tracing::instrument(skip(self))]
    pub async fn withdraw(&self, about: About) -> Result<()> {
        let n_dropped = self.repo.drop_queued_about(about).await?;
        if n_dropped > 0 {
            tracing::info!(
                n_dropped,
                "queued activity mail about an ended share or link dropped"
            );
        }
        Ok(())
    }

    /// A customer registered: they want activity mail unless they say otherwise. A
    /// preference already known (this event delivered again) is kept.
    pub async fn customer_registered(&self, customer_id: Uuid) -> Result<()> {
        if self.repo.activity_mail(customer_id).await?.is_none() {
            self.repo.set_activity_mail(customer_id, true).await?;
        }
        Ok(())
    }

    /// A customer said whether they want activity mail.
    pub async fn set_activity_mail(&self, customer_id: Uuid, wanted: bool) -> Result<()> {
        self.repo.set_activity_mail(customer_id, wanted).await
    }

    /// A customer is gone: forget their preference, last send and queued mails.
    pub async fn forget_customer(&self, customer_id: Uuid) -> Result<()> {
        self.repo.forget_customer(customer_id).await
    }

    /// Sends one mail, counting it as sent or failed (each failed attempt counts once).
    async fn send(&self, mail: &Mail) -> Result<()> {
        let sent = self.mailer.send(mail).await;
        crate::metrics::mail(sent.is_ok());
        sent
    }

    /// When the window opened by an activity mail sent at `last` closes.
    fn window_end(&self, last: DateTime<Utc>) -> DateTime<Utc> {
        last.checked_add_signed(self.digest_window)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}
