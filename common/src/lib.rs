//! What `fmsd` and `fmsctl` share.
//!
//! - [`events`]: the envelope every event travels in, the topic names and one payload type per event.
//!   These are the only types that go onto the bus.
//! - [`api`]: the JSON bodies of the HTTP API, so the server and the CLI cannot drift apart.
//! - [`correlation`]: the correlation id that follows a request through logs and events.
//! - [`telemetry`]: one way to set up `tracing` for both binaries.
//! - [`size`]: sizes for people (`1.50 MiB`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod correlation;
pub mod events;
pub mod size;
pub mod telemetry;
