//! The routes, one file per group.

pub mod auth;
pub mod blobs;
pub mod files;
pub mod health;
pub mod me;
pub mod uploads;
