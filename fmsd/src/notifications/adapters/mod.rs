//! Mailers and the notifications store.

pub mod maildir;
pub mod message;
pub mod sqlite;
