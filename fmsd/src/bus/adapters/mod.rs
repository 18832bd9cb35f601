//! Bus backends.

pub mod embedded;
