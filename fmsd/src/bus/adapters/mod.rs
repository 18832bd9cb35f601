//! Bus backends.

pub mod embedded;
#[cfg(feature = "kafka")]
pub mod kafka;
