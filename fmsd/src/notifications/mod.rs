//! Notifications: reads events and sends the mails that go with them.
//!
//! - [`domain`]: `Mail` and the templates, all in one place.
//! - [`ports`]: `Mailer` (sends) and `NotificationRepo` (remembers what was sent).
//! - [`service`]: turns an event into a mail, once.
//! - [`consumers`]: the customer events it reads.
//! - [`adapters`]: `maildir` (`.eml` files, lettre's file transport) and `smtp` (lettre) mailers;
//!   `sqlite` and `postgres` stores.

pub mod adapters;
pub mod consumers;
pub mod domain;
pub mod ports;
pub mod service;
