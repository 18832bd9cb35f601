//! fmsd's HTTP tests: each test starts the real app on a free port with its own data dir and
//! talks to it over HTTP, as a client would.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod authorization;
mod customers;
mod events;
mod files;
mod gateway;
mod helpers;
mod uploads;
