//! Contract tests: each port's contract is written once, as a generic async function, and run
//! against every adapter — the embedded one and the real server (started by
//! `scripts/services.sh start`). A real server that cannot be reached fails the test.

mod bus;
mod customers;
mod notifications;
mod support;
