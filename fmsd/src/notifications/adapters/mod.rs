//! Mailers and the notifications store.

pub mod maildir;
pub mod message;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "smtp")]
pub mod smtp;
pub mod sqlite;
