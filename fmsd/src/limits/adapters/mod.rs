//! Where the limits are kept: [`memory`] (one instance on its own, the embedded default) and
//! [`sql`] (SQLite or PostgreSQL, shared by every instance that points at the same database).

pub mod memory;
pub mod sql;
