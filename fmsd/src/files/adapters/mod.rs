//! File stores: `sql` keeps the tree, the upload sessions and sharing's records in SQLite or
//! PostgreSQL; `local_fs` keeps the bytes in a folder and serves them through signed URLs on
//! fmsd; with the `s3` feature, `s3` keeps them in a bucket.

pub mod local_fs;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sql;
