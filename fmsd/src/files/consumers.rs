//! The events the files service reacts to: a deleted customer's files are purged.

use std::sync::Arc;

use async_trait::async_trait;
use common::events::{topics, CustomerDeleted, Envelope};

use super::service::FileService;
use crate::bus::consumer::EventHandler;
use crate::error::{Error, Result};

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
        if !envelope.is::<CustomerDeleted>() {
            return Ok(());
        }
        // A malformed payload can never succeed: `Invalid` is not transient, so it is
        // dead-lettered at once instead of retried.
        let event: CustomerDeleted = envelope
            .decode()
            .map_err(|error| Error::Invalid(error.to_string()))?;
        self.service
            .purge_owner(event.customer_id, GROUP, &envelope.id.to_string())
            .await?;
        Ok(())
    }
}
