//! Mailers and the notifications store: `maildir` and `smtp` send, `sqlite` and `postgres`
//! remember (the same tables and queries, in `schema`).

pub mod maildir;
pub mod message;
#[cfg(feature = "postgres")]
pub mod postgres;
mod schema;
#[cfg(feature = "smtp")]
pub mod smtp;
pub mod sqlite;
