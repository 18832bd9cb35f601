//! File stores: `sqlite` keeps the tree and the upload sessions, `local_fs` keeps the bytes in
//! a folder and serves them through signed URLs on fmsd.
//! With the `postgres` feature, `postgres` keeps the tree and the sessions in PostgreSQL.

pub mod local_fs;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "s3")]
pub mod s3;
mod schema;
mod sharing_schema;
pub mod sqlite;
