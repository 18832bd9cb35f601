//! The events notifications reads: customer events (account mails and the mail-preference
//! projection) and file events (activity mails, each mapped to a template and a recipient; the
//! end of a share or link, which withdraws the queued mails about it). A payload that does not
//! decode is `Invalid`, so the consumer dead-letters it at once.

use std::sync::Arc;

use async_trait::async_trait;
use common::events::{
    topics, CustomerDeleted, CustomerPasswordChanged, CustomerPasswordResetRequested,
    CustomerRegistered, CustomerUpdated, CustomerVerificationRequested, DecodeError, Envelope,
    Event, FileShared, LinkExpiring, LinkRevoked, LinkUploadReceived, QuotaThresholdReached,
    ShareRevoked,
};
use uuid::Uuid;

use super::domain::{About, ItemKind, Recipient, ShareRole, Template};
use super::service::NotificationService;
use crate::bus::consumer::EventHandler;
use crate::error::{Error, Result};

#[cfg(test)]
mod tests;

/// The payload of `envelope`, or `Invalid`.
fn decode<E: Event>(envelope: &Envelope) -> Result<E> {
    envelope
        .decode()
        .map_err(|error: DecodeError| Error::Invalid(error.to_string()))
}

/// A recipient from an event's fields.
fn recipient(customer_id: Uuid, email: &str, name: &str) -> Recipient {
    Recipient {
        customer_id,
        email: email.to_owned(),
        name: name.to_owned(),
    }
}

/// Mails customers about their account, and keeps their mail preference.
#[derive(Debug)]
pub struct CustomerEvents {
    /// The service.
    service: Arc<NotificationService>,
}

impl CustomerEvents {
    /// A handler over `service`.
    pub fn new(service: Arc<NotificationService>) -> Self {
        Self { service }
    }
}

#[async_trait]
impl EventHandler for CustomerEvents {
    fn group(&self) -> &'static str {
        "fms-notifications"
    }

    fn topic(&self) -> &'static str {
        topics::CUSTOMERS
    }

    async fn handle(&self, envelope: &Envelope) -> Result<()> {
        let id = envelope.id.to_string();
        if envelope.is::<CustomerRegistered>() {
            let event: CustomerRegistered = decode(envelope)?;
            self.service.customer_registered(event.customer_id).await?;
            let to = recipient(event.customer_id, &event.email, &event.name);
            self.service.notify(&id, Template::Welcome, &to).await
        } else if envelope.is::<CustomerUpdated>() {
            let event: CustomerUpdated = decode(envelope)?;
            self.service
                .set_activity_mail(event.customer_id, event.activity_mail)
                .await
        } else if envelope.is::<CustomerPasswordChanged>() {
            let event: CustomerPasswordChanged = decode(envelope)?;
            let to = recipient(event.customer_id, &event.email, &event.name);
            self.service
                .notify(&id, Template::PasswordChanged, &to)
                .await
        } else if envelope.is::<CustomerPasswordResetRequested>() {
            let event: CustomerPasswordResetRequested = decode(envelope)?;
            let to = recipient(event.customer_id, &event.email, &event.name);
            let template = Template::PasswordReset {
                token: event.token,
                expires_at: event.expires_at,
            };
            self.service.notify(&id, template, &to).await
        } else if envelope.is::<CustomerVerificationRequested>() {
            let event: CustomerVerificationRequested = decode(envelope)?;
            let to = recipient(event.customer_id, &event.email, &event.name);
            let Some(previous_email) = event.previous_email else {
                let template = Template::VerifyAddress {
                    token: event.token,
                    expires_at: event.expires_at,
                };
                return self.service.notify(&id, template, &to).await;
            };
            // The address being left is told first, under an id of its own: a redelivery
            // sends neither twice.
            let notice = Template::AddressChangeRequested {
                new_email: event.email.clone(),
            };
            let old = recipient(event.customer_id, &previous_email, &event.name);
            self.service
                .notify(&format!("{id}-previous"), notice, &old)
                .await?;
            let template = Template::ConfirmNewAddress {
                token: event.token,
                expires_at: event.expires_at,
                previous_email,
            };
            self.service.notify(&id, template, &to).await
        } else if envelope.is::<CustomerDeleted>() {
            let event: CustomerDeleted = decode(envelope)?;
            let to = recipient(event.customer_id, &event.email, &event.name);
            self.service
                .notify(&id, Template::AccountDeleted, &to)
                .await?;
            self.service.forget_customer(event.customer_id).await
        } else {
            Ok(())
        }
    }
}

/// Mails customers about activity on their files: shares with them, their links, uploads
/// through their file requests, their quota; forgets the queued ones about a share or link
/// that ended.
#[derive(Debug)]
pub struct FileEvents {
    /// The service.
    service: Arc<NotificationService>,
}

impl FileEvents {
    /// A handler over `service`.
    pub fn new(service: Arc<NotificationService>) -> Self {
        Self { service }
    }
}

#[async_trait]
impl EventHandler for FileEvents {
    fn group(&self) -> &'static str {
        // A group of its own: a Kafka group rebalances as a whole, so each topic gets one.
        "fms-notifications-files"
    }

    fn topic(&self) -> &'static str {
        topics::FILES
    }

    async fn handle(&self, envelope: &Envelope) -> Result<()> {
        let id = envelope.id.to_string();
        if envelope.is::<ShareRevoked>() {
            let event: ShareRevoked = decode(envelope)?;
            return self.service.withdraw(About::Share(event.share_id)).await;
        }
        if envelope.is::<LinkRevoked>() {
            let event: LinkRevoked = decode(envelope)?;
            return self.service.withdraw(About::Link(event.link_id)).await;
        }
        let (template, to) = if envelope.is::<FileShared>() {
            let event: FileShared = decode(envelope)?;
            let template = Template::FileShared {
                share_id: event.share_id,
                owner_name: event.owner_name,
                owner_email: event.owner_email,
                item_name: event.item_name,
                kind: ItemKind::parse(&event.kind)?,
                role: ShareRole::parse(&event.role)?,
            };
            let to = recipient(
                event.recipient_id,
                &event.recipient_email,
                &event.recipient_name,
            );
            (template, to)
        } else if envelope.is::<LinkExpiring>() {
            let event: LinkExpiring = decode(envelope)?;
            let template = Template::LinkExpiring {
                link_id: event.link_id,
                item_name: event.item_name,
                item_path: event.item_path,
                expires_at: event.expires_at,
            };
            let to = recipient(event.owner_id, &event.owner_email, &event.owner_name);
            (template, to)
        } else if envelope.is::<LinkUploadReceived>() {
            let event: LinkUploadReceived = decode(envelope)?;
            let template = Template::LinkUploadReceived {
                folder_name: event.folder_name,
                file_name: event.file_name,
                size: event.size,
                path: event.path,
            };
            let to = recipient(event.owner_id, &event.owner_email, &event.owner_name);
            (template, to)
        } else if envelope.is::<QuotaThresholdReached>() {
            let event: QuotaThresholdReached = decode(envelope)?;
            let template = Template::QuotaThresholdReached {
                percent: event.percent,
                used_bytes: event.used_bytes,
                quota_bytes: event.quota_bytes,
            };
            let to = recipient(event.owner_id, &event.owner_email, &event.owner_name);
            (template, to)
        } else {
            return Ok(());
        };
        self.service.notify(&id, template, &to).await
    }
}
