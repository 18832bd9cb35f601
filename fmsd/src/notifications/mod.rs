//! Notifications: reads events and sends the mails that go with them.
//!
//! - [`domain`]: `Mail`, the templates and the digest, all in one place.
//! - [`ports`]: `Mailer` (sends) and `NotificationRepo` (remembers what was sent, what each
//!   customer wants, and what waits for a digest).
//! - [`service`]: turns an event into a mail, once; drops activity mail a customer turned off;
//!   gathers bursts of activity mail into digests, and leaves out of them what a revoked share
//!   or link was about.
//! - [`consumers`]: the customer and file events it reads.
//! - [`adapters`]: `maildir` (`.eml` files, lettre's file transport) and `smtp` (lettre) mailers;
//!   `sqlite` and `postgres` stores.

pub mod adapters;
pub mod consumers;
pub mod domain;
#[cfg(test)]
mod fakes;
pub mod ports;
pub mod service;
