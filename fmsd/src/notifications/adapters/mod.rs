//! Mailers and the notifications store: `maildir` and `smtp` send, `sql` remembers (on SQLite
//! or PostgreSQL; its tables in `schema`).

pub mod maildir;
pub mod message;
mod schema;
#[cfg(feature = "smtp")]
pub mod smtp;
pub mod sql;
