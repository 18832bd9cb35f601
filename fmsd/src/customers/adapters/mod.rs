//! Customer stores.

pub mod sqlite;
