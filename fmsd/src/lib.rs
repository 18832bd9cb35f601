//! fmsd: the fms daemon. One process runs the gateway and the three services; they talk only
//! through events on the bus.
//!
//! - [`app`]: wiring and lifecycle (`App::build`, `App::run`).
//! - [`settings`]: configuration (defaults, file, `FMSD_*`, flags).
//! - [`gateway`]: the HTTP front door; the only module that knows HTTP.
//! - [`customers`], [`files`], [`notifications`]: the services, each `domain`, `ports`,
//!   `service`, `consumers`, `adapters`.
//! - [`bus`]: publisher/subscriber ports, the outbox relay, the consumer loop, the backends.
//! - [`db`]: SQLite plumbing shared by the embedded adapters (pool, migrations, outbox tables).
//! - [`limits`]: password-guessing limits, in process or shared by every instance of a stack.
//! - [`metrics`]: every Prometheus series' name, and one function per thing recorded.
//! - [`store_url`]: which backend each port uses, by URL scheme.
//! - [`error`], [`clock`], [`signing`], [`keys`], [`health`], [`passwords`], [`permissions`]
//!   (fmsd's files are its user's alone), [`space`] (the free-space floor and the emergency
//!   reserve on the local disks), [`open_files`] (the open-files limit and the connections it
//!   allows): small shared pieces; [`retry`] (`Backoff`, the one
//!   way fmsd waits between attempts) and [`periodic`] (chores run every interval until
//!   shutdown).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod app;
pub mod bus;
pub mod clock;
pub mod customers;
pub mod db;
pub mod error;
pub mod files;
pub mod gateway;
pub mod health;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod notifications;
pub mod open_files;
pub mod passwords;
pub mod periodic;
pub mod permissions;
pub mod reload;
pub mod retry;
pub mod settings;
pub mod signing;
pub mod space;
pub mod store_url;
pub mod systemd;
