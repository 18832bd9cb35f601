//! Files: each customer's tree of folders and files, resumable multipart uploads straight to the
//! blob store, signed download links, a per-customer quota.
//!
//! - [`domain`]: `RemotePath` (every path rule, checked when built), `PartPlan`, `Node`,
//!   `Upload` and the other records.
//! - [`ports`]: `FileRepo` (tree, sessions, outbox) and `BlobStore` (multipart uploads in S3's
//!   terms, signed URLs).
//! - [`service`]: the use cases; `service::uploads` holds the upload protocol.
//! - [`consumers`]: `CustomerEvents` purges a deleted customer's files.
//! - [`adapters`]: `sqlite` and `postgres` for the tree, `local_fs` and `s3` for the bytes.
//! - The contracts every adapter keeps are written once in `tests/contracts/` (`files_repo.rs`
//!   for `FileRepo`, `blobs.rs` for `BlobStore`).
//!
//! Invariants: a file is visible only once its bytes were checked (size and SHA-256); its row,
//! the end of its session and its `files.uploaded` event commit together; a blob that a commit
//! made garbage is recorded in that commit, so a crash only delays its deletion.
//!
//! The gateway's `routes::files`, `routes::uploads` and `routes::blobs` are its HTTP face; the
//! last one serves the embedded store's signed URLs through the service and the `BlobStore`
//! port, so the gateway knows no adapter.

pub mod adapters;
pub mod consumers;
pub mod domain;
pub mod ports;
pub mod service;
