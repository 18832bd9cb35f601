//! Bus backends, and the outbox adapter the relay reads service databases through.

pub mod embedded;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod sql_outbox;
