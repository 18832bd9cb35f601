//! File stores: `sqlite` keeps the tree and the upload sessions, `local_fs` keeps the bytes in
//! a folder and serves them through signed URLs on fmsd.

pub mod local_fs;
pub mod sqlite;
