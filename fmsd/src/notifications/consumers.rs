//! The events notifications reads: customer events, each mapped to a template.

use std::sync::Arc;

use async_trait::async_trait;
use common::events::{
    topics, CustomerDeleted, CustomerPasswordChanged, CustomerRegistered, Envelope,
};

use super::domain::Template;
use super::service::NotificationService;
use crate::bus::consumer::EventHandler;
use crate::error::{Error, Result};

/// Mails customers about their account.
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
        let decode_error = |error: common::events::DecodeError| Error::Invalid(error.to_string());
        if envelope.is::<CustomerRegistered>() {
            let event: CustomerRegistered = envelope.decode().map_err(decode_error)?;
            self.service
                .notify(&id, Template::Welcome, &event.email, &event.name)
                .await
        } else if envelope.is::<CustomerPasswordChanged>() {
            let event: CustomerPasswordChanged = envelope.decode().map_err(decode_error)?;
            self.service
                .notify(&id, Template::PasswordChanged, &event.email, &event.name)
                .await
        } else if envelope.is::<CustomerDeleted>() {
            let event: CustomerDeleted = envelope.decode().map_err(decode_error)?;
            self.service
                .notify(&id, Template::AccountDeleted, &event.email, &event.name)
                .await
        } else {
            Ok(())
        }
    }
}
