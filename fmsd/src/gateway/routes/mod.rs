//! The routes, one file per group.

pub mod auth;
pub mod blobs;
pub mod files;
pub mod health;
pub mod links;
pub mod me;
pub mod public_links;
pub mod shares;
pub mod tokens;
pub mod trash;
pub mod upload_batches;
pub mod uploads;
