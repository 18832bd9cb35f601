//! The event bus: how services talk to each other, and only how.
//!
//! - [`ports`]: `Publisher`, `Subscriber` and `Outbox`, the traits every backend implements.
//! - [`relay`]: moves a service's outbox onto the bus, so an event committed with its state
//!   change is published even if fmsd dies in between.
//! - [`consumer`]: runs one event handler for one consumer group: retries with backoff,
//!   dead-letters what cannot be handled, commits only after success.
//! - `adapters::embedded`: a durable log in SQLite for the embedded default.

pub mod adapters;
pub mod consumer;
pub mod ports;
pub mod relay;
