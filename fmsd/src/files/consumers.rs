//! The events the files service reacts to: customers' registrations and profile changes keep
//! the directory sharing looks e-mails up in; a deleted customer's files are purged and their
//! shares and links forgotten.

use std::sync::Arc;

use async_trait::async_trait;
use common::events::{topics, CustomerDeleted, CustomerRegistered, CustomerUpdated, Envelope};

use super::service::FileService;
use crate::bus::consumer::EventHandler;
use crate::error::{Error, Result};
use crate::files::domain::Person;

/// The consumer group of the files service; also the key of its processed-event records.
pub const GROUP: &str = "fms-files";

/// Reacts to customer events.
#[derive(Debug)]
pub struct CustomerEvents {
    /// The service that purges.
    service: Arc<FileService>,
}

impl CustomerEvents {
    /// A handler calling `service`.
    pub fn new(service: Arc<FileService>) -> Self {
        Self { service }
    }
}

#[async_trait]
impl EventHandler for CustomerEvents {
    fn group(&self) -> &'static str {
        GROUP
    }

    fn topic(&self) -> &'static str {
        topics::CUSTOMERS
    }

    async fn handle(&self, envelope: &Envelope) -> Result<()> {
        // A malformed payload can never succeed: `Invalid` is not transient, so it is
        // dead-lettered at once instead of retried.
        let decode_error = |error: common::events::DecodeError| Error::Invalid(error.to_string());
        // Directory updates are upserts: handling one twice has one effect.
        if envelope.is::<CustomerRegistered>() {
            let event: CustomerRegistered = envelope.decode().map_err(decode_error)?;
            self.service
                .remember_person(Person {
                    id: event.customer_id,
                    email: event.email,
                    name: event.name,
                    verified: event.email_verified,
                })
                .await
        } else if envelope.is::<CustomerUpdated>() {
            let event: CustomerUpdated = envelope.decode().map_err(decode_error)?;
            self.service
                .remember_person(Person {
                    id: event.customer_id,
                    email: event.email,
                    name: event.name,
                    verified: event.email_verified,
                })
                .await
        } else if envelope.is::<CustomerDeleted>() {
            let event: CustomerDeleted = envelope.decode().map_err(decode_error)?;
            self.service
                .purge_owner(event.customer_id, GROUP, &envelope.id.to_string())
                .await?;
            self.service.forget_person(event.customer_id).await
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
