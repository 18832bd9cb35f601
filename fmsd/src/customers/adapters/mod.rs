//! Customer stores.

#[cfg(feature = "mongodb")]
pub mod mongo;
pub mod sqlite;
