//! Contract tests: each port's contract is written once, as a generic async function, and run
//! against every adapter — the embedded one and the real server (started by
//! `scripts/services.sh start`). A real server that cannot be reached fails the test.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

mod blobs;
mod bus;
mod customers;
mod files_repo;
mod limits;
mod notifications;
mod sharing;
mod sql_layer;
mod support;
mod trash;
